#!/bin/sh
# One-off job of docker-compose.scale.yml (minio/mc image): the portal's bucket in
# MinIO, private (no anonymous access: every download goes through the portal's
# permission checks), and the portal's own access key, allowed that bucket only. Safe
# to run again: what exists is left as it is.
set -eu

: "${MINIO_ROOT_PASSWORD:?}" "${STORAGE_SECRET_KEY:?}"
bucket="$STORAGE_BUCKET"

until mc alias set local http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null; do
    echo "minio-init: waiting for MinIO..." >&2
    sleep 2
done
mc mb --ignore-existing "local/$bucket"
mc anonymous set none "local/$bucket"

cat > /tmp/portal-files.json <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
      "Resource": ["arn:aws:s3:::$bucket"]
    },
    {
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                 "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      "Resource": ["arn:aws:s3:::$bucket/*"]
    }
  ]
}
JSON
mc admin policy create local portal-files /tmp/portal-files.json
mc admin user add local "$STORAGE_ACCESS_KEY" "$STORAGE_SECRET_KEY"
mc admin policy attach local portal-files --user "$STORAGE_ACCESS_KEY" 2>/dev/null \
    || echo "minio-init: policy portal-files already attached" >&2
echo "minio-init: bucket $bucket ready for $STORAGE_ACCESS_KEY" >&2
