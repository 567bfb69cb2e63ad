/** Safety numbers: the 60 digits and the scannable code two contacts compare. */
export {
  SAFETY_CODE_PREFIX,
  SAFETY_NUMBER_ITERATIONS,
  SAFETY_NUMBER_VERSION,
  SafetyNumber,
  SafetyNumberError,
  type SafetyCheck,
  type SafetyParty,
} from './safety-number.ts';
