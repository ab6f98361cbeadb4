// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** {@code DEVKIT_EHOSTKEY}: the bastion's host key is unknown, changed or not as pinned; the message has the fingerprint. */
public class HostKeyException extends DevkitException {
    private static final long serialVersionUID = 1L;

    public HostKeyException(String message, int code) {
        super(message, code);
    }
}
