// `npm run crds`: writes crds/*.yaml from the zod schemas (src/api/schemas.ts via src/api/crds.ts).
import { writeFileSync } from "node:fs";
import { crdFiles } from "../src/api/crds.ts";

for (const { name, content } of crdFiles()) {
  writeFileSync(new URL(`../crds/${name}`, import.meta.url), content);
  console.log(`wrote crds/${name}`);
}
