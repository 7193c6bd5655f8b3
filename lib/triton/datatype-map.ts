/** v2 datatypes -> Triton's TYPE_* names. BYTES, v2's variable-length type, is Triton's TYPE_STRING. */
import type { Datatype } from '../protocol/datatypes';
import type { TritonDataType } from './types';

export const TRITON_DATA_TYPE: Readonly<Record<Datatype, TritonDataType>> = {
  BOOL: 'TYPE_BOOL',
  UINT8: 'TYPE_UINT8',
  UINT16: 'TYPE_UINT16',
  UINT32: 'TYPE_UINT32',
  UINT64: 'TYPE_UINT64',
  INT8: 'TYPE_INT8',
  INT16: 'TYPE_INT16',
  INT32: 'TYPE_INT32',
  INT64: 'TYPE_INT64',
  FP16: 'TYPE_FP16',
  FP32: 'TYPE_FP32',
  FP64: 'TYPE_FP64',
  BYTES: 'TYPE_STRING',
};
