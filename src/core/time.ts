/** RFC 3339 to the second, as Kubernetes writes metav1.Time (conditions, Events); a number is epoch ms. */
export const toSeconds = (time: Date | number): string =>
  new Date(time).toISOString().replace(/\.\d+Z$/, "Z");
