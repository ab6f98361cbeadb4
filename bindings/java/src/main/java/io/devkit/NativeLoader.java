// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Loads libdevkit_jni, which the jar carries under {@code <os>-<arch>/}.
 *
 * <p>Order: the file named by the system property {@code io.devkit.jni.path} if
 * set; then {@code System.loadLibrary} (java.library.path, for distributions that
 * install the library); then the copy inside the jar, unpacked to a fresh
 * temporary directory that only this user can read (0700) and deleted as soon
 * as it is loaded, since Linux keeps a loaded library mapped.
 */
final class NativeLoader {
    static final String LIBRARY = "devkit_jni";
    private static boolean loaded;

    private NativeLoader() {}

    static synchronized void load() {
        if (loaded) {
            return;
        }
        String explicit = System.getProperty("io.devkit.jni.path");
        if (explicit != null && !explicit.isEmpty()) {
            System.load(explicit);
        } else {
            try {
                System.loadLibrary(LIBRARY);
            } catch (UnsatisfiedLinkError notInstalled) {
                loadFromJar(notInstalled);
            }
        }
        loaded = true;
    }

    private static void loadFromJar(UnsatisfiedLinkError notInstalled) {
        String file = System.mapLibraryName(LIBRARY);
        String resource = "/" + platform() + "/" + file;
        try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
            if (in == null) {
                UnsatisfiedLinkError e = new UnsatisfiedLinkError("libdevkit: " + resource
                    + " is not in the jar (built for another platform?) and " + LIBRARY
                    + " is not on java.library.path");
                e.addSuppressed(notInstalled);
                throw e;
            }
            Path dir = Files.createTempDirectory("devkit-jni-");
            Path lib = dir.resolve(file);
            try {
                Files.copy(in, lib);
                System.load(lib.toString());
            } finally {
                Files.deleteIfExists(lib);
                Files.deleteIfExists(dir);
            }
        } catch (IOException io) {
            UnsatisfiedLinkError e = new UnsatisfiedLinkError("libdevkit: cannot unpack " + resource
                + ": " + io);
            e.initCause(io);
            throw e;
        }
    }

    /** The folder name for this machine, as the build spells it: linux-x86-64, linux-aarch64. */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (os.startsWith("linux")) {
            os = "linux";
        } else if (os.startsWith("mac") || os.startsWith("darwin")) {
            os = "darwin";
        } else if (os.startsWith("windows")) {
            os = "windows";
        }
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (arch.equals("amd64") || arch.equals("x86_64")) {
            arch = "x86-64";
        } else if (arch.equals("arm64")) {
            arch = "aarch64";
        }
        return os + "-" + arch;
    }
}
