import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdKernels } from './simd';
import { KIT_ADAM_UPDATE, KIT_SGD_UPDATE } from './kernels/optimizer_updates';
import { modeSwitch } from './kernels/compose';

/**
 * tfjs's Adam and SGD updates, one kernel per variable on wasm. tfjs's Adam runs fourteen kernels per variable and
 * step (multiplies, adds, a square, divisions, a square root), SGD two; each is an engine call with its
 * bookkeeping, whatever the variable's size — for the MBConv source model's 96 variables that was ≈ 1,340 calls
 * and ≈ 9 ms of a ≈ 68 ms Adam step, for the plain CNN's 10 variables ≈ 4 ms of ≈ 44. The kit's kernels
 * (`adamUpdate`, `sgdUpdate` in simd/assembly/kernels.ts) compute the same expressions with every constant the
 * float32 scalar tfjs makes of it and every operation rounded to float32 in tfjs's order, so the weights and the
 * optimizer's moments are the same bits (test/backend/optimizers.test.ts). Everything else about the optimizers is
 * tfjs's: their moment variables (names, getWeights / setWeights), iteration counts, the β powers, learning-rate
 * changes. Float32 variables on wasm with the kit's SIMD kernels only; anything else runs tfjs's own code.
 */

const fusion = modeSwitch<boolean>(true);
let fusedUpdates = 0;

/** Variable updates run fused so far (tests check the path ran). */
export function optimizerFusions(): number {
  return fusedUpdates;
}

/** Turns the fused updates on or off (tests compare both); returns the previous setting. */
export const setOptimizerFusion = fusion.set;

type Gradients = tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[];

/** The names and gradients of `grads` in tfjs's order, or null when some variable or gradient is not float32 (or a gradient's shape is not its variable's). */
function fusableGradients(grads: Gradients): { names: string[]; gradient: (i: number) => tf.Tensor | undefined } | null {
  if (!fusion.get() || tf.getBackend() !== 'wasm' || simdKernels(tf.backend() as BackendWasm) == null) return null;
  const names = Array.isArray(grads) ? grads.map((v) => v.name) : Object.keys(grads);
  const gradient = (i: number) => (Array.isArray(grads) ? grads[i].tensor : grads[names[i]]);
  const variables = tf.engine().registeredVariables;
  for (let i = 0; i < names.length; i++) {
    const g = gradient(i);
    const v = variables[names[i]];
    if (v?.dtype !== 'float32') return null;
    // A gradient of another dtype or shape: tfjs's own code (and its error message) handles it.
    if (g != null && (g.dtype !== 'float32' || !tf.util.arraysEqual(g.shape, v.shape))) return null;
  }
  return { names, gradient };
}

interface AdamLike {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  incrementIterations(): void;
}

/** tfjs's AdamOptimizer.applyGradients with each variable's update as one kernel (see above). */
function adamApply(original: (this: AdamLike, grads: Gradients) => void) {
  return function (this: AdamLike, grads: Gradients): void {
    const fusable = fusableGradients(grads);
    if (fusable == null) return original.call(this, grads);
    const { names, gradient } = fusable;
    tf.tidy(() => {
      const oneMinusAccBeta1 = tf.sub(1, this.accBeta1);
      const oneMinusAccBeta2 = tf.sub(1, this.accBeta2);
      const attrs = { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, learningRate: this.learningRate } as unknown as tf.NamedAttrMap;
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        // tfjs's moment variables, made on a variable's first update (first moment, then second).
        const moment = (suffix: string) => ({ originalName: `${name}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) });
        this.accumulatedFirstMoment[i] ??= moment('m');
        this.accumulatedSecondMoment[i] ??= moment('v');
        const g = gradient(i);
        if (g == null) return;
        const m = this.accumulatedFirstMoment[i].variable;
        const v = this.accumulatedSecondMoment[i].variable;
        const inputs = { value, m, v, g, oneMinusAccBeta1, oneMinusAccBeta2 };
        const [newValue, newM, newV] = tf.engine().runKernel(KIT_ADAM_UPDATE, inputs, attrs) as tf.Tensor[];
        m.assign(newM);
        v.assign(newV);
        value.assign(newValue);
        fusedUpdates++;
      });
      this.accBeta1.assign(tf.mul(this.accBeta1, this.beta1));
      this.accBeta2.assign(tf.mul(this.accBeta2, this.beta2));
    });
    this.incrementIterations();
  };
}

interface SgdLike {
  c: tf.Scalar;
  incrementIterations(): void;
}

/** tfjs's SGDOptimizer.applyGradients with each variable's update as one kernel. */
function sgdApply(original: (this: SgdLike, grads: Gradients) => void) {
  return function (this: SgdLike, grads: Gradients): void {
    const fusable = fusableGradients(grads);
    if (fusable == null) return original.call(this, grads);
    const { names, gradient } = fusable;
    names.forEach((name, i) => {
      const g = gradient(i);
      if (g == null) return;
      const value = tf.engine().registeredVariables[name];
      tf.tidy(() => {
        value.assign(tf.engine().runKernel(KIT_SGD_UPDATE, { value, g, c: this.c }) as tf.Tensor);
      });
      fusedUpdates++;
    });
    this.incrementIterations();
  };
}

let patched = false;

/** Patches tfjs's Adam and SGD optimizers with the fused updates (their kernels are among the kit's wasm kernels); idempotent. */
export function patchOptimizersForWasm(): void {
  if (patched) return;
  patched = true;
  const adam = tf.AdamOptimizer.prototype as unknown as { applyGradients: (this: AdamLike, grads: Gradients) => void };
  const sgd = tf.SGDOptimizer.prototype as unknown as { applyGradients: (this: SgdLike, grads: Gradients) => void };
  adam.applyGradients = adamApply(adam.applyGradients);
  sgd.applyGradients = sgdApply(sgd.applyGradients);
}
