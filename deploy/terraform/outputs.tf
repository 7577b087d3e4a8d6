output "bucket_name" {
  description = "The archive bucket."
  value       = aws_s3_bucket.archive.id
}

output "bucket_arn" {
  description = "ARN of the archive bucket."
  value       = aws_s3_bucket.archive.arn
}

output "archive_url" {
  description = "What to give stele archive --to, or archive.to in the collector's configuration."
  value       = "s3://${aws_s3_bucket.archive.id}/${var.archive_prefix}"
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the archive (and the CloudTrail logs)."
  value       = aws_kms_key.archive.arn
}

output "collector_role_arn" {
  description = "ARN of the role the collector runs as: put and read the archive, never delete."
  value       = aws_iam_role.collector.arn
}

output "collector_instance_profile" {
  description = "Instance profile of the collector role, for EC2."
  value       = aws_iam_instance_profile.collector.name
}

output "cloudtrail_bucket_name" {
  description = "The CloudTrail log bucket, which stele ingest cloudtrail reads (null without CloudTrail)."
  value       = var.enable_cloudtrail ? aws_s3_bucket.trail[0].id : null
}

output "stele_config" {
  description = "The [archive] table of the collector's stele.toml."
  value       = <<-EOT
    [archive]
    to = "s3://${aws_s3_bucket.archive.id}/${var.archive_prefix}"
    region = "${data.aws_region.current.name}"
    mode = "${var.object_lock_mode}"
    retentionDays = ${var.retention_days}
    latest = ${var.allow_latest_checkpoint}
  EOT
}
