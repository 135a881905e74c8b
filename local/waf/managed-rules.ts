/**
 * AWS managed rule groups, as far as their published rule descriptions let a request alone decide them.
 * Each rule is written from AWS's description of it and kept conservative (a false positive would block
 * legitimate local traffic); AWS's actual patterns are not public, so a request AWS would block may pass
 * locally. What is not emulated is listed in {@link NOT_EMULATED_MANAGED_RULES} (docs and start-up log).
 */
import type { InspectedRequest } from './request';
import { HEADERS_INSPECTION_BYTES, HEADERS_INSPECTION_COUNT, TRANSFORMATIONS } from './request';

const BASELINE_PAGE =
  'https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html';
const IP_REPUTATION_PAGE =
  'https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-ip-rep.html';
const USE_CASE_PAGE =
  'https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-use-case.html';

/** One rule of a managed rule group. */
export interface ManagedRule {
  readonly name: string;
  /** The label AWS documents for the rule (added when it matches, whatever its action). */
  readonly label: string;
  readonly matches: (request: InspectedRequest) => boolean;
}

/** A managed rule group the local gateway evaluates (every rule's action is Block, as AWS documents). */
export interface ManagedRuleGroup {
  readonly vendor: string;
  readonly name: string;
  readonly page: string;
  readonly rules: readonly ManagedRule[];
  /** Rules of the group that are not emulated, and why. */
  readonly notEmulated: readonly { readonly rules: string; readonly why: string }[];
}

// --- Inspection helpers -----------------------------------------------------------------------------------

const urlDecode = TRANSFORMATIONS.URL_DECODE;
const htmlDecode = TRANSFORMATIONS.HTML_ENTITY_DECODE;

/** URL-decoded twice (double encoding), HTML entities decoded, lower case. */
function normalized(value: string): string {
  return htmlDecode(urlDecode(urlDecode(value))).toLowerCase();
}

const uriPath = (r: InspectedRequest) => r.memo('crs:uri', () => [normalized(r.request.uriPath)]);
const queryString = (r: InspectedRequest) => r.memo('crs:query', () => [normalized(r.request.queryString)]);
const queryArgs = (r: InspectedRequest) =>
  r.memo('crs:args', () => r.queryArgs.map(([, v]) => normalized(v)));
const body = (r: InspectedRequest) =>
  r.memo('crs:body', () => (r.request.body.length === 0 ? [] : [normalized(r.bodyText)]));
const cookies = (r: InspectedRequest) =>
  r.memo('crs:cookies', () => {
    const header = r.header('cookie');
    return header === undefined ? [] : [normalized(header.slice(0, HEADERS_INSPECTION_BYTES))];
  });
/** Keys and values of the first 8 KB / 200 headers. */
const headers = (r: InspectedRequest) => r.memo('crs:headers', () => allHeaders(r));
const allHeaders = (r: InspectedRequest) => {
  const out: string[] = [];
  let bytes = 0;
  for (const [name, value] of r.request.headers.slice(0, HEADERS_INSPECTION_COUNT)) {
    bytes += name.length + value.length + 4;
    if (bytes > HEADERS_INSPECTION_BYTES) break;
    out.push(normalized(name), normalized(value));
  }
  return out;
};

type Values = (r: InspectedRequest) => readonly string[];
const any = (values: Values, test: (value: string) => boolean) => (r: InspectedRequest) =>
  values(r).some(test);

/** Security scanners that announce themselves in the User-Agent (CRS's examples: nessus, nmap). */
const BAD_BOTS =
  /\b(?:nessus|nmap|nikto|sqlmap|masscan|zgrab|dirbuster|gobuster|wpscan|acunetix|netsparker|openvas|w3af|havij|zmeu|morfeus|nuclei|jorgee|fimap|arachni|paros)\b/;
const EC2_METADATA = /169\.254\.169\.254|fd00:ec2::254/;
const PATH_TRAVERSAL = /\.\.[/\\]/;
/** System file extensions unsafe to read or run (CRS's examples: .log, .ini); `.com` is left out (e-mail addresses). */
const RESTRICTED_EXTENSION =
  /\.(?:log|ini|bak|backup|old|orig|swp|sql|cfg|conf|config|dat|db|dbf|mdb|rdb|pdb|inc|pwd|pass|pol|sys|dll|bat|cmd|vbs|asa|asax|ascx|axd|htr|htw|ida|idc|idq|licx|lnk|resources|resx|webinfo|csproj|vbproj|vsdisco)$/;
/** A URL whose host is an IPv4 address (CRS's RFI examples: http://, https://, ftp://, ftps://, file://). */
const RFI_URL = /(?:https?|ftps?|file):\/\/(?:\d{1,3}\.){3}\d{1,3}(?:[:/?#]|$)/;
/** Java deserialization / Spring RCE payloads (example: (java.lang.Runtime).getRuntime().exec("whoami")). */
const JAVA_RCE =
  /java\.lang\.(?:runtime|processbuilder)|getruntime\(\)\s*\.\s*exec|class\.module\.classloader|t\(java\.lang\./;
const EXPLOITABLE_PATH = /(?:^|\/)(?:web-inf|meta-inf)(?:\/|$)/;

/** A Log4j lookup such as `${jndi:ldap://example.com/}`, also with nested `${lower:j}` / `${::-j}` obfuscation. */
export function isLog4jLookup(value: string): boolean {
  if (!value.includes('${')) return false;
  let text = value;
  for (let i = 0; i < 10; i++) {
    const next = text.replace(/\$\{(?:lower:|upper:|::-|[a-z0-9_.]*:[^:{}$]*:-)([^{}$]*)\}/g, '$1');
    if (next === text) break;
    text = next;
  }
  return /\$\{\s*jndi\s*:/.test(text);
}

// --- The groups -----------------------------------------------------------------------------------------

const CRS = 'awswaf:managed:aws:core-rule-set:';
const KBI = 'awswaf:managed:aws:known-bad-inputs:';

const rule = (name: string, label: string, matches: (r: InspectedRequest) => boolean): ManagedRule => ({
  name,
  label,
  matches,
});

/** Core rule set (CRS): AWSManagedRulesCommonRuleSet. */
const COMMON_RULE_SET: ManagedRuleGroup = {
  vendor: 'AWS',
  name: 'AWSManagedRulesCommonRuleSet',
  page: `${BASELINE_PAGE}#aws-managed-rule-groups-baseline-crs`,
  rules: [
    rule('NoUserAgent_HEADER', `${CRS}NoUserAgent_Header`, (r) => !(r.header('user-agent') ?? '').trim()),
    rule('UserAgent_BadBots_HEADER', `${CRS}BadBots_Header`, (r) =>
      BAD_BOTS.test((r.header('user-agent') ?? '').toLowerCase()),
    ),
    rule(
      'SizeRestrictions_QUERYSTRING',
      `${CRS}SizeRestrictions_QueryString`,
      (r) => Buffer.byteLength(r.request.queryString) > 2048,
    ),
    rule(
      'SizeRestrictions_Cookie_HEADER',
      `${CRS}SizeRestrictions_Cookie_Header`,
      (r) => Buffer.byteLength(r.header('cookie') ?? '') > 10_240,
    ),
    rule('SizeRestrictions_BODY', `${CRS}SizeRestrictions_Body`, (r) => r.request.body.length > 8192),
    rule(
      'SizeRestrictions_URIPATH',
      `${CRS}SizeRestrictions_URIPath`,
      (r) => Buffer.byteLength(r.request.uriPath) > 1024,
    ),
    rule(
      'EC2MetaDataSSRF_BODY',
      `${CRS}EC2MetaDataSSRF_Body`,
      any(body, (v) => EC2_METADATA.test(v)),
    ),
    rule(
      'EC2MetaDataSSRF_COOKIE',
      `${CRS}EC2MetaDataSSRF_Cookie`,
      any(cookies, (v) => EC2_METADATA.test(v)),
    ),
    rule(
      'EC2MetaDataSSRF_URIPATH',
      `${CRS}EC2MetaDataSSRF_URIPath`,
      any(uriPath, (v) => EC2_METADATA.test(v)),
    ),
    rule(
      'EC2MetaDataSSRF_QUERYARGUMENTS',
      `${CRS}EC2MetaDataSSRF_QueryArguments`,
      any(queryArgs, (v) => EC2_METADATA.test(v)),
    ),
    rule(
      'GenericLFI_QUERYARGUMENTS',
      `${CRS}GenericLFI_QueryArguments`,
      any(queryArgs, (v) => PATH_TRAVERSAL.test(v)),
    ),
    rule(
      'GenericLFI_URIPATH',
      `${CRS}GenericLFI_URIPath`,
      any(uriPath, (v) => PATH_TRAVERSAL.test(v)),
    ),
    rule(
      'GenericLFI_BODY',
      `${CRS}GenericLFI_Body`,
      any(body, (v) => PATH_TRAVERSAL.test(v)),
    ),
    rule(
      'RestrictedExtensions_URIPATH',
      `${CRS}RestrictedExtensions_URIPath`,
      any(uriPath, (v) => RESTRICTED_EXTENSION.test(v)),
    ),
    rule(
      'RestrictedExtensions_QUERYARGUMENTS',
      `${CRS}RestrictedExtensions_QueryArguments`,
      any(queryArgs, (v) => RESTRICTED_EXTENSION.test(v)),
    ),
    rule(
      'GenericRFI_QUERYARGUMENTS',
      `${CRS}GenericRFI_QueryArguments`,
      any(queryArgs, (v) => RFI_URL.test(v)),
    ),
    rule(
      'GenericRFI_BODY',
      `${CRS}GenericRFI_Body`,
      any(body, (v) => RFI_URL.test(v)),
    ),
    rule(
      'GenericRFI_URIPATH',
      `${CRS}GenericRFI_URIPath`,
      any(uriPath, (v) => RFI_URL.test(v)),
    ),
  ],
  notEmulated: [
    {
      rules:
        'CrossSiteScripting_COOKIE, CrossSiteScripting_QUERYARGUMENTS, CrossSiteScripting_BODY, CrossSiteScripting_URIPATH',
      why: "they use AWS WAF's XSS detection engine, which is not public",
    },
  ],
};

/** Known bad inputs: AWSManagedRulesKnownBadInputsRuleSet. */
const KNOWN_BAD_INPUTS: ManagedRuleGroup = {
  vendor: 'AWS',
  name: 'AWSManagedRulesKnownBadInputsRuleSet',
  page: `${BASELINE_PAGE}#aws-managed-rule-groups-baseline-known-bad-inputs`,
  rules: [
    rule(
      'JavaDeserializationRCE_HEADER',
      `${KBI}JavaDeserializationRCE_Header`,
      any(headers, (v) => JAVA_RCE.test(v)),
    ),
    rule(
      'JavaDeserializationRCE_BODY',
      `${KBI}JavaDeserializationRCE_Body`,
      any(body, (v) => JAVA_RCE.test(v)),
    ),
    rule(
      'JavaDeserializationRCE_URIPATH',
      `${KBI}JavaDeserializationRCE_URIPath`,
      any(uriPath, (v) => JAVA_RCE.test(v)),
    ),
    rule(
      'JavaDeserializationRCE_QUERYSTRING',
      `${KBI}JavaDeserializationRCE_QueryString`,
      any(queryString, (v) => JAVA_RCE.test(v)),
    ),
    rule('Host_localhost_HEADER', `${KBI}Host_Localhost_Header`, (r) =>
      /^localhost(?:\.localdomain)?\.?(?::\d+)?$/.test((r.header('host') ?? '').trim().toLowerCase()),
    ),
    rule('PROPFIND_METHOD', `${KBI}Propfind_Method`, (r) => r.request.method.toUpperCase() === 'PROPFIND'),
    rule(
      'ExploitablePaths_URIPATH',
      `${KBI}ExploitablePaths_URIPath`,
      any(uriPath, (v) => EXPLOITABLE_PATH.test(v)),
    ),
    rule('Log4JRCE_HEADER', `${KBI}Log4JRCE_Header`, any(headers, isLog4jLookup)),
    rule('Log4JRCE_QUERYSTRING', `${KBI}Log4JRCE_QueryString`, any(queryString, isLog4jLookup)),
    rule('Log4JRCE_BODY', `${KBI}Log4JRCE_Body`, any(body, isLog4jLookup)),
    rule('Log4JRCE_URIPATH', `${KBI}Log4JRCE_URIPath`, any(uriPath, isLog4jLookup)),
  ],
  notEmulated: [],
};

/** Managed rule groups the local gateway evaluates, by `{vendor}/{name}`. */
export const MANAGED_RULE_GROUPS: ReadonlyMap<string, ManagedRuleGroup> = new Map(
  [COMMON_RULE_SET, KNOWN_BAD_INPUTS].map((group) => [`${group.vendor}/${group.name}`, group]),
);

/**
 * What of AWS's managed rule groups the local gateway does not emulate, and why (for docs/FIDELITY.md and
 * the start-up log). A group not listed here and not in {@link MANAGED_RULE_GROUPS} is not emulated either.
 */
export const NOT_EMULATED_MANAGED_RULES: readonly {
  readonly what: string;
  readonly why: string;
  readonly page: string;
}[] = [
  {
    what: 'AWS/AWSManagedRulesCommonRuleSet: CrossSiteScripting_*',
    why: COMMON_RULE_SET.notEmulated[0].why,
    page: COMMON_RULE_SET.page,
  },
  {
    what: 'AWS/AWSManagedRulesAmazonIpReputationList, AWS/AWSManagedRulesAnonymousIpList',
    why: 'they match AWS threat-intelligence and anonymizer address lists, which are not public (locally every client is 127.0.0.1)',
    page: IP_REPUTATION_PAGE,
  },
  {
    what: 'AWS/AWSManagedRulesSQLiRuleSet and the use-case groups (Linux, Unix/POSIX, Windows, PHP, WordPress)',
    why: "their patterns and AWS WAF's SQL injection engine are not public",
    page: USE_CASE_PAGE,
  },
  {
    what: 'AWS/AWSManagedRulesAdminProtectionRuleSet',
    why: 'its list of administration paths is not public',
    page: `${BASELINE_PAGE}#aws-managed-rule-groups-baseline-admin`,
  },
  {
    what: 'AWS/AWSManagedRulesBotControlRuleSet, AWSManagedRulesATPRuleSet, AWSManagedRulesACFPRuleSet, AWSManagedRulesAntiDDoSRuleSet',
    why: 'they rely on client fingerprinting, AWS intelligence and tokens from the WAF JavaScript integration',
    page: 'https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-list.html',
  },
];
