/** JetStream API error codes (`err_code`) that more than one module of the transport tells apart. */

/** "stream not found". */
export const JS_STREAM_NOT_FOUND = 10059;
/** "consumer not found". */
export const JS_CONSUMER_NOT_FOUND = 10014;
