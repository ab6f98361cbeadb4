// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.nio.charset.StandardCharsets;

/**
 * Bytes a command wrote ({@link ExecSession#read}): one stream's bytes, in the
 * order they came. A chunk may end in the middle of a line or of a UTF-8
 * character.
 *
 * @param stream where they came from
 * @param data the bytes (never empty)
 */
public record ExecOutput(ExecStream stream, byte[] data) {

    /** The bytes as UTF-8 text. */
    public String text() {
        return new String(data, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "ExecOutput[" + stream + ", " + data.length + " bytes]";
    }
}
