/**
 * The layering of src/ (docs/ARCHITECTURE.md draws it), checked by `npm run check:layers`.
 * Folders are listed bottom to top; a module may import its own layer and the layers below it,
 * never one above. Cores (parsing ... sources) may import each other, as long as no folder or file
 * cycle appears. Add a new folder to the layer it belongs to: an unlisted folder is an error.
 */
const layers = [
  { name: "artifacts", folders: ["artifacts"] },
  { name: "runtime", folders: ["runtime"] },
  { name: "cores", folders: ["parsing", "mining", "presets", "sequences", "representations", "detectors", "eval", "sources", "neural"] },
  { name: "cache", folders: ["cache"] },
  { name: "tasks", folders: ["tasks"] },
  { name: "config", folders: ["config"] },
  { name: "executor", folders: ["executor"] },
  { name: "flows", folders: ["flows"] },
  { name: "startup", folders: ["startup"] },
  { name: "commands", folders: ["cli/view", "cli/commands"] },
  { name: "cli", folders: ["cli"] }
]

const pathOf = (folders) => `^src/(${folders.join("|")})/[^/]+`
const escaped = (f) => f.replace(/\//g, "\\/")
const exact = (folders) => `^src/(${folders.map(escaped).join("|")})/`

const upward = layers.flatMap((layer, i) => {
  const above = layers.slice(i + 1).flatMap((l) => l.folders)
  if (above.length === 0) return []
  // `cli` matches cli/* too: a folder's own subfolders are listed in their own, higher or equal, layer.
  const own = layer.folders.map((f) => `^src/${escaped(f)}/[^/]+$`)
  return [{
    name: `no-upward-from-${layer.name}`,
    comment: `${layer.name} imports only itself and the layers below it (${layers.slice(0, i).map((l) => l.name).join(", ") || "nothing"})`,
    severity: "error",
    from: { path: layer.name === "cores" ? pathOf(layer.folders) : own.join("|") },
    to: { path: exact(above), pathNot: exact(layer.folders) }
  }]
})

module.exports = {
  forbidden: [
    {
      name: "no-file-cycles",
      comment: "no module reaches itself through its imports",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true }
    },
    {
      name: "no-folder-cycles",
      comment: "no folder reaches itself through its modules' imports",
      severity: "error",
      scope: "folder",
      from: { path: "^src/" },
      to: { circular: true }
    },
    {
      name: "artifacts-import-nothing-of-ours",
      comment: "artifact types and their pure helpers sit at the bottom: they import no other folder of src/",
      severity: "error",
      from: { path: "^src/artifacts/" },
      to: { path: "^src/", pathNot: "^src/artifacts/" }
    },
    {
      name: "cores-never-import-the-engine",
      comment: "numeric and text cores import only artifacts, runtime and each other, never tasks, config, cache, executor, flows, startup or cli",
      severity: "error",
      from: { path: pathOf(layers[2].folders) },
      to: { path: "^src/(tasks|config|cache|executor|flows|startup|cli)/" }
    },
    {
      name: "every-folder-in-a-layer",
      comment: "each folder of src/ belongs to a layer listed in .dependency-cruiser.cjs",
      severity: "error",
      from: { path: "^src/", pathNot: `^src/(${layers.flatMap((l) => l.folders).map(escaped).join("|")})/` },
      to: {}
    },
    ...upward
  ],
  options: {
    includeOnly: "^src/",
    tsPreCompilationDeps: true,
    moduleSystems: ["es6", "cjs"],
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] }
  }
}
