// ConditionHolds for FCSEL and FCCMP, on the core's NZCV (bits 31:28).
import { nzcv } from "../state";

export function conditionHolds(cond: u32): bool {
  const n = (nzcv >> 31) & 1;
  const z = (nzcv >> 30) & 1;
  const c = (nzcv >> 29) & 1;
  const v = (nzcv >> 28) & 1;
  let result: bool;
  switch (cond >> 1) {
    case 0:
      result = z == 1;
      break;
    case 1:
      result = c == 1;
      break;
    case 2:
      result = n == 1;
      break;
    case 3:
      result = v == 1;
      break;
    case 4:
      result = c == 1 && z == 0;
      break;
    case 5:
      result = n == v;
      break;
    case 6:
      result = n == v && z == 0;
      break;
    default:
      return true; // AL and NV both mean always.
  }
  return (cond & 1) != 0 ? !result : result;
}
