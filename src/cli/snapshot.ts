/**
 * Entry point of the CLI's V8 start-up snapshot (built by scripts/build.ts into .build/flow.blob,
 * started by bin/flow). The shims must load before anything else; main.ts registers the function
 * that runs when the snapshot is deserialised (src/startup/Start.ts); the warm-up runs last.
 */
import "../startup/SnapshotShims.ts"
import "./main.ts"
import "../startup/SnapshotWarmup.ts"
