variable "bucket_name" {
  description = "Name of the archive bucket (globally unique). Object Lock can only be enabled when a bucket is created."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name (3 to 63 of a-z, 0-9, '.' and '-')."
  }
}

variable "archive_prefix" {
  description = "Key prefix the collector archives under (stele archive --to s3://<bucket>/<prefix>). Empty for the whole bucket; otherwise ends in '/'."
  type        = string
  default     = "stele/"

  validation {
    condition     = var.archive_prefix == "" || can(regex("^[A-Za-z0-9!_.*'()=+,;@-]+(/[A-Za-z0-9!_.*'()=+,;@-]+)*/$", var.archive_prefix))
    error_message = "archive_prefix must be empty or segments separated by '/' ending in '/'."
  }
}

variable "object_lock_mode" {
  description = "Default Object Lock retention mode: COMPLIANCE (nobody, root included, can delete or shorten it; recommended) or GOVERNANCE (for test accounts: principals with s3:BypassGovernanceRetention can)."
  type        = string
  default     = "COMPLIANCE"

  validation {
    condition     = contains(["COMPLIANCE", "GOVERNANCE"], var.object_lock_mode)
    error_message = "object_lock_mode must be COMPLIANCE or GOVERNANCE."
  }
}

variable "retention_days" {
  description = "Default retention in days of every archived object, from its write. COMPLIANCE objects cannot be deleted before it ends, whatever it costs."
  type        = number
  default     = 2557 # seven years

  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 36500 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number from 1 to 36500."
  }
}

variable "break_glass_role_arn" {
  description = "ARN of the break-glass role: the only principal the bucket policy lets delete object versions, bypass governance retention or change the bucket's lock, versioning and policy (once their retention allows it). Apply later changes to this module as that role."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.break_glass_role_arn))
    error_message = "break_glass_role_arn must be an IAM role ARN."
  }
}

variable "collector_role_name" {
  description = "Name of the IAM role the collector (stele serve / stele archive) runs as."
  type        = string
  default     = "stele-collector"
}

variable "collector_assume_role_policy" {
  description = "Trust policy (JSON) of the collector role; by default EC2 instances may assume it (use the instance profile output)."
  type        = string
  default     = null
}

variable "allow_latest_checkpoint" {
  description = "Let the collector publish the newest checkpoint at the well-known key <prefix>checkpoint as a new version (tlog-tiles clients read it). Every other key must be written with If-None-Match: *, so it can never receive a second version."
  type        = bool
  default     = true
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before the archive's KMS key is deleted once scheduled (only the break-glass role may schedule it)."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_in_days >= 7 && var.kms_key_deletion_window_in_days <= 30
    error_message = "kms_key_deletion_window_in_days must be from 7 to 30."
  }
}

variable "enable_cloudtrail" {
  description = "Also create a multi-region CloudTrail trail whose log bucket the collector may read (stele ingest cloudtrail)."
  type        = bool
  default     = false
}

variable "cloudtrail_name" {
  description = "Name of the CloudTrail trail, when enabled."
  type        = string
  default     = "stele"
}

variable "cloudtrail_bucket_name" {
  description = "Name of the CloudTrail log bucket, when enabled; default <bucket_name>-cloudtrail."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
