// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** What a {@link Capture} gives ({@code devkit_capture_format}). */
public enum CaptureFormat {
    /** tcpdump's one line per packet (-n -l): {@link Capture#readLine}. */
    TEXT(devkit_capture_format.DEVKIT_CAPTURE_TEXT),
    /** A pcap stream (-w -), as {@code tshark -r} and Wireshark read it: {@link Capture#read}. */
    PCAP(devkit_capture_format.DEVKIT_CAPTURE_PCAP);

    private final int value;

    CaptureFormat(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }
}
