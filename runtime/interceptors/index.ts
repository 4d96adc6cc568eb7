/** Interceptors: the one extension point around every outbound hop and every inbound turn. */
export {
  AdmissionScratch,
  type AdmissionTurn,
  type AdmittingInterceptor,
  admissionInterceptor,
  admitsAll,
  admitTurn,
  type InboundAdmit,
  mayAdmitAll,
  releaseQuietly,
} from "./admission.js";
export { chainIdle, observersOf, runChain, withBuiltins } from "./chain.js";
export { readonlyHeaders, recordHeaders } from "./headers.js";
export { type InboundTurnInfo, interceptTurn } from "./inbound.js";
export type {
  Idling,
  InboundContext,
  InboundDelivery,
  InboundInterceptor,
  InboundKind,
  Interceptor,
  OutboundActorContext,
  OutboundContext,
  OutboundDelivery,
  OutboundInterceptor,
  OutboundKind,
  OutboundPublishContext,
  ReadonlyHeaders,
  TurnScope,
} from "./interceptor.js";
