// The Khronos glTF validator over .glb files: node validate.mjs NODE_MODULES FILE.glb...
// prints one JSON line per file: {file, validator, errors, warnings, infos, hints, messages}.
import fs from 'fs';
import path from 'path';
import {pathToFileURL} from 'url';

const [modules, ...files] = process.argv.slice(2);
const validator = await import(pathToFileURL(path.join(modules, 'gltf-validator', 'module.mjs')).href);
for (const file of files) {
  const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(file)));
  const issues = report.issues;
  console.log(JSON.stringify({file, validator: report.validatorVersion, errors: issues.numErrors,
                              warnings: issues.numWarnings, infos: issues.numInfos, hints: issues.numHints,
                              messages: issues.messages.slice(0, 20)}));
}
