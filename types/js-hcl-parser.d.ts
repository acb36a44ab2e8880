// Types for js-hcl-parser (a GopherJS build of hashicorp/hcl v1). Both functions return strings:
// `parse` yields JSON text, or a message starting with "unable to parse JSON:" on a syntax error.
declare module 'js-hcl-parser' {
  const HCL: {
    /** HCL v1 text → JSON text (blocks become arrays of objects), or an error message. */
    parse(input: string): string;
    /** JSON text → HCL text, or an error message. */
    stringify(input: string): string;
  };
  export default HCL;
}
