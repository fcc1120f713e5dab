// Jest environment for specs that run onnxruntime-node: the native binding creates its output
// typed arrays in Node's main realm, while jest runs the test in a vm context with its own
// Float32Array etc., so onnxruntime-common's `instanceof` checks fail. Share the main realm's
// typed-array constructors with the test context. Use with a docblock:
//   /** @jest-environment ./src/inference/ort-jest-environment.cjs */
const NodeEnvironment = require('jest-environment-node').TestEnvironment;

class OrtEnvironment extends NodeEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of ['Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array', 'Int16Array', 'Uint16Array',
      'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array', 'ArrayBuffer']) {
      this.global[name] = globalThis[name];
    }
  }
}

module.exports = OrtEnvironment;
