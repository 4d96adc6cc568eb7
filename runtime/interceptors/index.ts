/** Interceptors: the one extension point around every outbound hop and every inbound turn. */
export {
  AdmissionScratch,
  type AdmissionTurn,
  type AdmittingInterceptor,
  admissionInterceptor,
  type InboundAdmit,
  releaseQuietly,
} from "./admission.js";
export { chainIdle, observersOf, runChain, TRUSTED_LINK, withBuiltins } from "./chain.js";
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
export {
  beginLinks,
  CHECKS_ONLY,
  maySynchronous,
  NOT_SYNCHRONOUS,
  OBSERVED,
  type Observer,
  runTaken,
  synchronousNow,
  Taken,
} from "./sync-links.js";
