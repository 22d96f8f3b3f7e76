/**
 * Kubernetes label syntax (k8s.io/apimachinery `IsQualifiedName` and `IsValidLabelValue`): what the
 * API server and the kubelet's `--node-labels` accept. A node that joins with one bad label does
 * not join at all, so every label we hand to a node is checked here first.
 */

/** A name segment: at most 63 characters, alphanumerics at both ends, `-`, `_`, `.` inside. */
const NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
/** A DNS-1123 subdomain, as label key prefixes must be (checked for length separately). */
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
/** A value: empty, or like a name segment. */
const VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Why a label key is not valid, in words, or undefined when it is. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    return `the prefix "${prefix}" is not a DNS subdomain of at most 253 characters`;
  if (name.length > 63)
    return `the name after the prefix has ${name.length} characters; Kubernetes allows 63`;
  if (!NAME.test(name))
    return 'the name must start and end with a letter or digit and hold only letters, digits, "-", "_" and "."';
  return undefined;
}

export function isValidLabelKey(key: string): boolean {
  return labelKeyProblem(key) === undefined;
}

export function isValidLabelValue(value: string): boolean {
  return VALUE.test(value);
}
