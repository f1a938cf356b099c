/** RFC 3339 to the second, as Kubernetes writes metav1.Time (conditions, Events). */
export const toSeconds = (time: Date): string => time.toISOString().replace(/\.\d+Z$/, "Z");
