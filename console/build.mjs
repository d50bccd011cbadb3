// Builds the console into authz/handlers/admin/console_assets (or the folder
// given as the first argument): app.js, app.css and index.html. Minified, no
// source maps, and byte-for-byte the same on every run from the same lock,
// because CI compares a fresh build with what is committed.

import { build } from "esbuild";
import { copyFile, mkdir, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const out = path.resolve(process.argv[2] ?? path.join(root, "authz/handlers/admin/console_assets"));
const OUTPUTS = new Set(["app.js", "app.css", "index.html"]);
// What this build (or an older one) can have written: top-level files of these kinds, nothing else.
const BUILT = /\.(?:js|css|html|map)$/;

async function exists(file) {
  return stat(file).then(
    () => true,
    () => false,
  );
}

// A mistyped argument must not turn the clean-up below loose on a checkout or a project.
for (const marker of [".git", "package.json"]) {
  if (await exists(path.join(out, marker))) {
    console.error(`refusing to build into ${out}: it holds ${marker}, so it is not an output folder`);
    process.exit(1);
  }
}

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

// A file an older build left behind would be served too; only this build's files of its kinds stay.
for (const entry of await readdir(out, { withFileTypes: true })) {
  if (entry.isFile() && BUILT.test(entry.name) && !OUTPUTS.has(entry.name)) await rm(path.join(out, entry.name));
}
