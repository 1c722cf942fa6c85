import { ModelTask } from '../enums';

/** Class labels per reading task, in the trainer's order (src/training/python/data.py). */
export const TASK_CLASSES: Readonly<Record<ModelTask, readonly string[]>> = {
  [ModelTask.CHEST]: ['NORMAL', 'PNEUMONIA', 'TUBERCULOSIS'],
  [ModelTask.WRIST]: ['NO_FRACTURE', 'FRACTURE'],
};

/**
 * The "no finding" class of each task. Quality figures are binary: positive = any finding, i.e. any
 * label other than this one (a PNEUMONIA film read as TUBERCULOSIS is still a true positive for
 * recall; the exact-class match is measured by agreement).
 */
export const NEGATIVE_CLASS: Readonly<Record<ModelTask, string>> = {
  [ModelTask.CHEST]: 'NORMAL',
  [ModelTask.WRIST]: 'NO_FRACTURE',
};
