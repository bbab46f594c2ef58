/** ReportSink on a private S3 bucket: one PutObject per file (the bucket encrypts and blocks public access; infra/constructs/report-bucket.ts). */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ReportSink } from '../ports.ts';

export class S3ReportSink implements ReportSink {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async putFile(key: string, body: string, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType, CacheControl: 'no-store' }));
  }
}
