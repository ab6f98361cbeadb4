// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Strings cross JNI as UTF-8 bytes (see devkit_java.i): JNI's own string
 * functions speak "modified UTF-8", which differs from what C expects for NUL
 * and for characters outside the BMP.
 */
final class Utf8 {
    private Utf8() {}

    /** NUL-terminated UTF-8, or null for null. */
    static byte[] encode(String s) {
        if (s == null) {
            return null;
        }
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        for (byte b : utf8) {
            if (b == 0) {
                throw new InvalidArgumentException(
                    "a string passed to libdevkit contains a NUL character",
                    DevkitException.EINVAL);
            }
        }
        return Arrays.copyOf(utf8, utf8.length + 1);
    }

    static String decode(byte[] utf8) {
        return utf8 == null ? null : new String(utf8, StandardCharsets.UTF_8);
    }
}
