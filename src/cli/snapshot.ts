/**
 * Entry point of the CLI's V8 startup snapshot (built by scripts/build.ts into .build/flow.blob,
 * started by bin/flow.js). The shims must load before anything else; main.ts registers the
 * function that runs when the snapshot is deserialised.
 */
import "./snapshotShims.ts"
import "./main.ts"
import "./snapshotWarmup.ts"
