// Builds the console into authz/handlers/admin/console_assets (or the folder
// given as the first argument): app.js, app.css and index.html. Minified, no
// source maps, and byte-for-byte the same on every run from the same lock,
// because CI compares a fresh build with what is committed.

import { build } from "esbuild";
import { copyFile, mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const out = path.resolve(process.argv[2] ?? path.join(root, "authz/handlers/admin/console_assets"));
const OUTPUTS = new Set(["app.js", "app.css", "index.html"]);

await mkdir(out, { recursive: true });
await build({
  entryPoints: [
    { in: path.join(here, "src/main.ts"), out: "app" },
    { in: path.join(here, "app.css"), out: "app" },
  ],
  outdir: out,
  bundle: true,
  format: "esm",
  target: ["es2022", "chrome110", "firefox110", "safari16"],
  minify: true,
  sourcemap: false,
  legalComments: "eof",
  charset: "ascii",
  treeShaking: true,
  logLevel: "warning",
  // Absolute paths never reach the output, so the bytes do not depend on the checkout's folder.
  absWorkingDir: root,
});
await copyFile(path.join(here, "index.html"), path.join(out, "index.html"));

// Whatever an older build left behind would be served too; only this build's files stay.
for (const name of await readdir(out)) {
  if (!OUTPUTS.has(name)) await rm(path.join(out, name), { recursive: true });
}
