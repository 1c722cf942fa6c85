/**
 * Loaded by jest (setupFiles of the integration project) before every test file. Jest runs each test file in its own vm
 * context, but the runtime's native binding creates output arrays in Node's main context, and
 * onnxruntime-common then rejects them (`A float32 tensor's data must be type of function
 * Float32Array()`). Using the main context's Float32Array in this test context, before the runtime is
 * loaded, makes both sides agree. Outside jest (the product, benches) there is one context and no issue.
 */
import { runInThisContext } from 'node:vm';

globalThis.Float32Array = runInThisContext('Float32Array') as Float32ArrayConstructor;
