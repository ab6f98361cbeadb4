// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/**
 * Receives events on the context's listener thread ("devkit-events-N"), never on
 * the library's I/O thread. Return quickly; to touch a UI, hand the event to the
 * UI thread (SwingUtilities.invokeLater, or the IDE's invokeLater). An exception
 * thrown here goes to the thread's uncaught-exception handler and the other
 * listeners still run.
 */
@FunctionalInterface
public interface EventListener {
    void onEvent(Event event);
}
