/**
 * Text PostgreSQL cannot store: U+0000 (text and jsonb refuse it) and unpaired UTF-16 surrogates
 * (they have no UTF-8 form: the driver would store U+FFFD in text, jsonb refuses them). Inputs
 * holding them are refused where they enter (the API, the rules loader), never passed on.
 */
// A NUL, a high surrogate not followed by a low one, or a low surrogate without a high one before it.
export const UNSTORABLE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const UNSTORABLE_TEXT_MESSAGE = 'must not contain U+0000 (NUL) or unpaired surrogates';
