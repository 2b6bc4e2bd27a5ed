/** Learning-rate schedules as a function of training progress (0 at the first step, → 1 at the last). */

/** 'constant': lr throughout; 'cosine': half a cosine from lr down to 0; 'step': ×0.1 at 50 % and again at 75 %. */
export type Schedule = 'constant' | 'cosine' | 'step';

/** The learning rate at `progress` ∈ [0, 1] of training under `schedule`. */
export function learningRateAt(schedule: Schedule, lr: number, progress: number): number {
  const p = Math.min(1, Math.max(0, progress));
  switch (schedule) {
    case 'constant':
      return lr;
    case 'cosine':
      return lr * 0.5 * (1 + Math.cos(Math.PI * p));
    case 'step':
      return lr * (p >= 0.5 ? 0.1 : 1) * (p >= 0.75 ? 0.1 : 1);
    default:
      throw new Error(`learningRateAt: unknown schedule '${schedule as string}'; expected constant, cosine or step`);
  }
}
