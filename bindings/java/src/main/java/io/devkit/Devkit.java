// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** Library-wide information. */
public final class Devkit {
    private Devkit() {}

    /** The version of the libdevkit linked into the JNI library ("0.3.0"). */
    public static String version() {
        return DevkitC.devkit_version(new int[1], new int[1], new int[1]);
    }

    /** A short, static description of an error code. */
    public static String strerror(int code) {
        return DevkitC.devkit_strerror(code);
    }
}
