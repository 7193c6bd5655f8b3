/**
 * jest runs each test file in its own V8 context, with its own typed-array constructors. onnxruntime-node's
 * native binding builds output tensors with the main context's constructors, and onnxruntime-common then
 * checks them with `instanceof` against the test context's: they never match, and every run() fails.
 * Sharing the main context's typed-array constructors with the test context makes both sides agree.
 */
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = [
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'ArrayBuffer', 'DataView',
];

class SharedTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = SharedTypedArraysEnvironment;
