// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Why a Pod is where it is ({@link Kubernetes#diagnose}): the library's report
 * as JSON ({@code namespace, pod, phase, node, stage, ready, summary, owner,
 * containers, findings, events}) and the same in plain words for a person
 * ({@code text}, also {@link #toString()}).
 *
 * @param json the report, parsed (objects are {@code Map}s, arrays {@code List}s)
 * @param text the report for a person
 */
public record Report(Map<String, Object> json, String text) {

    /**
     * What was recognised, each {@code {id, stage, title, container, explanation,
     * fix, evidence, previous_log}}; empty for a Pod that runs fine.
     */
    @SuppressWarnings("unchecked")
    public List<Map<String, Object>> findings() {
        Object f = json.get("findings");
        if (!(f instanceof List)) {
            return List.of();
        }
        return Collections.unmodifiableList(new ArrayList<>((List<Map<String, Object>>) f));
    }

    /** The findings' ids ("crash-loop", "image-not-found", ...). */
    public List<String> findingIds() {
        List<String> ids = new ArrayList<>();
        for (Map<String, Object> f : findings()) {
            ids.add(String.valueOf(f.get("id")));
        }
        return Collections.unmodifiableList(ids);
    }

    /** "scheduling", "start-up", "running", "offline". */
    public String stage() {
        Object s = json.get("stage");
        return s == null ? "" : s.toString();
    }

    public String summary() {
        Object s = json.get("summary");
        return s == null ? "" : s.toString();
    }

    @Override
    public String toString() {
        return text;
    }
}
