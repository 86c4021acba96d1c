// postject ships no types; the one call the build makes.
declare module 'postject' {
  const postject: {
    inject(file: string, resourceName: string, resource: Buffer, options: { sentinelFuse: string; machoSegmentName?: string; overwrite?: boolean }): Promise<void>;
  };
  export default postject;
}
