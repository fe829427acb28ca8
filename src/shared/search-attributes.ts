import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Search attributes are stored in plaintext (payload codecs do not cover them): identifiers only,
// never secrets or customer data beyond the environment/customer/host names operators search by.
export const DT_ENVIRONMENT_ID = defineSearchAttributeKey('DtEnvironmentId', SearchAttributeType.KEYWORD);
export const DT_CUSTOMER = defineSearchAttributeKey('DtCustomer', SearchAttributeType.KEYWORD);
export const DT_HOST = defineSearchAttributeKey('DtHost', SearchAttributeType.KEYWORD);
export const DT_PROBLEM_ID = defineSearchAttributeKey('DtProblemId', SearchAttributeType.KEYWORD);
export const AUTOPILOT_PHASE = defineSearchAttributeKey('AutopilotPhase', SearchAttributeType.KEYWORD);

export const AUTOPILOT_SEARCH_ATTRIBUTES = [DT_ENVIRONMENT_ID, DT_CUSTOMER, DT_HOST, DT_PROBLEM_ID, AUTOPILOT_PHASE];
