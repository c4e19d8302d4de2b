// Builds the web app into dist/: one minified, content-hashed script and stylesheet (esbuild), an
// index.html that loads them (no inline script or style, so the CSP needs no 'unsafe-inline'), the
// static files of public/, and manifest.json listing every file with its size, raw and gzipped.
//
//   node build.mjs            production build into dist/
//   node build.mjs --outdir x  somewhere else (bench and tests build into their own folders)

import { build } from "esbuild";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf("--outdir");
const outdir = outIndex >= 0 ? args[outIndex + 1] : join(here, "dist");

rmSync(outdir, { recursive: true, force: true });
mkdirSync(join(outdir, "assets"), { recursive: true });

const result = await build({
  entryPoints: [join(here, "src", "main.js")],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022"],
  outdir: join(outdir, "assets"),
  // The charts (uPlot) are a chunk of their own, fetched when a chart is first shown.
  splitting: true,
  entryNames: "[name]-[hash]",
  chunkNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  metafile: true,
  legalComments: "none",
  sourcemap: false,
  logLevel: "warning",
  absWorkingDir: here, // hashes do not depend on where the build runs
  define: { "process.env.NODE_ENV": '"production"' },
});

// Metafile paths are relative to absWorkingDir; the page needs them relative to outdir.
const outputs = Object.entries(result.metafile.outputs).map(([p, info]) => ({ path: relative(outdir, resolve(here, p)), info }));
const entry = outputs.find((o) => o.path.endsWith(".js") && o.info.entryPoint);
const script = entry.path;
// The chunks the entry imports statically, fetched in parallel with it instead of after it.
const preloads = entry.info.imports
  .filter((i) => i.kind === "import-statement")
  .map((i) => `<link rel="modulepreload" href="/${relative(outdir, resolve(here, i.path))}">`);
const style = outputs.find((o) => o.path.endsWith(".css")).path;

// public/ (icons) keeps its names; index.html gets the hashed names.
cpSync(join(here, "public"), outdir, { recursive: true });
const html = readFileSync(join(here, "src", "index.html"), "utf8")
  .replace("{{script}}", `/${script}`)
  .replace("{{style}}", `/${style}`)
  .replace("{{preload}}", preloads.join("\n  "));
writeFileSync(join(outdir, "index.html"), html);

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const files = walk(outdir)
  .filter((p) => !p.endsWith("manifest.json"))
  .map((path) => {
    const body = readFileSync(path);
    return {
      path: relative(outdir, path),
      bytes: body.length,
      gzip_bytes: gzipSync(body, { level: 9 }).length,
      sha256: createHash("sha256").update(body).digest("hex"),
    };
  })
  .sort((a, b) => a.path.localeCompare(b.path));
writeFileSync(join(outdir, "manifest.json"), JSON.stringify({ script, style, files }, null, 2) + "\n");

const js = files.filter((f) => f.path.endsWith(".js")).reduce((n, f) => n + f.gzip_bytes, 0);
console.log(`web: built ${files.length} files into ${relative(process.cwd(), outdir) || "."}; JavaScript ${(js / 1024).toFixed(1)} KB gzipped`);
