#!/usr/bin/env node
// The CLI is written in TypeScript and run through tsx, so PD modules named by a
// .system file (client.ts) can be imported the same way at run time.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
