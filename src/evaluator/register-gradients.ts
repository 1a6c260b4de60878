/**
 * Registers tfjs-core's gradient functions. The package's Node entry ships none of them (they live
 * only in its ESM source tree), so `tf.grad`/`tf.variableGrads` fail with "gradient function not
 * found" until this module is imported. Import it (for its side effect) from any module that
 * differentiates; importing it twice is harmless, and it never replaces a gradient that is already
 * registered (such as the dilation-aware depthwise one in wasm-kernels/). It also installs the
 * lean backward pass (lean-gradients.ts), which frees saved tensors and gradients as it goes.
 */
import { installLeanGradients } from './lean-gradients.js';
import './vendor/tfjs-gradients.generated.js';

installLeanGradients();
