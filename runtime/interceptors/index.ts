/** Interceptors: the one extension point around every outbound hop and every inbound turn. */
export {
  AdmissionScratch,
  type AdmissionTurn,
  type AdmittingInterceptor,
  admissionInterceptor,
  admitsAll,
  admitTurn,
  type InboundAdmit,
  releaseQuietly,
} from "./admission.js";
export { runChain } from "./chain.js";
export { readonlyHeaders, recordHeaders } from "./headers.js";
export { type InboundTurnInfo, interceptTurn } from "./inbound.js";
export type {
  InboundContext,
  InboundInterceptor,
  InboundKind,
  Interceptor,
  OutboundActorContext,
  OutboundContext,
  OutboundInterceptor,
  OutboundKind,
  OutboundPublishContext,
  ReadonlyHeaders,
} from "./interceptor.js";
