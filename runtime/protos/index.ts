/**
 * Troupe's gRPC definitions, loaded from protos/troupe/v1/, and their generated TypeScript types.
 */

export type {
  ExternalScalerClient,
  ExternalScalerHandlers,
} from "./generated/externalscaler/ExternalScaler.js";
export type { GetMetricSpecResponse } from "./generated/externalscaler/GetMetricSpecResponse.js";
export type { GetMetricsRequest__Output } from "./generated/externalscaler/GetMetricsRequest.js";
export type { GetMetricsResponse } from "./generated/externalscaler/GetMetricsResponse.js";
export type { IsActiveResponse } from "./generated/externalscaler/IsActiveResponse.js";
export type { ScaledObjectRef__Output } from "./generated/externalscaler/ScaledObjectRef.js";
export type { ControlMessage, ControlMessage__Output } from "./generated/troupe/v1/ControlMessage.js";
export type {
  GetStatusResponse,
  GetStatusResponse__Output,
} from "./generated/troupe/v1/GetStatusResponse.js";
export type {
  HostChannelClient as HostChannelGrpcClient,
  HostChannelHandlers,
} from "./generated/troupe/v1/HostChannel.js";
export type { HostLoad, HostLoad__Output } from "./generated/troupe/v1/HostLoad.js";
export type { HostMessage, HostMessage__Output } from "./generated/troupe/v1/HostMessage.js";
export type { KeyBy__Output as KeyBy } from "./generated/troupe/v1/KeyBy.js";
export type { KeyUsage, KeyUsage__Output } from "./generated/troupe/v1/KeyUsage.js";
export type { Limit, Limit__Output } from "./generated/troupe/v1/Limit.js";
export type { Match__Output } from "./generated/troupe/v1/Match.js";
export type { PolicyShare, PolicyShare__Output } from "./generated/troupe/v1/PolicyShare.js";
export type {
  ScalingDecision,
  ScalingDecision__Output,
} from "./generated/troupe/v1/ScalingDecision.js";
export type {
  ScalingServiceClient,
  ScalingServiceHandlers,
} from "./generated/troupe/v1/ScalingService.js";
export type { Shares, Shares__Output } from "./generated/troupe/v1/Shares.js";
export type { ThrottlePolicy, ThrottlePolicy__Output } from "./generated/troupe/v1/ThrottlePolicy.js";
export type {
  ThrottleServiceClient,
  ThrottleServiceHandlers,
} from "./generated/troupe/v1/ThrottleService.js";
export {
  LOADER_OPTIONS,
  PROTO_FILES,
  protoRoot,
  type TroupeProto,
  troupePackageDefinition,
  troupeProto,
} from "./load.js";
