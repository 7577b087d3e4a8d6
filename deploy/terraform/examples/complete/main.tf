# A production archive: COMPLIANCE retention of seven years, the well-known
# checkpoint, and a CloudTrail trail the collector ingests.

terraform {
  required_version = ">= 1.5.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}

variable "break_glass_role_arn" {
  description = "The break-glass role of this account (kept outside Terraform, used only under dual control)."
  type        = string
}

module "stele_archive" {
  source = "../.."

  bucket_name          = "acme-stele-audit-archive"
  archive_prefix       = "prod/"
  object_lock_mode     = "COMPLIANCE"
  retention_days       = 2557
  break_glass_role_arn = var.break_glass_role_arn
  enable_cloudtrail    = true
  cloudtrail_name      = "acme-stele"

  tags = {
    service = "stele"
    data    = "audit"
  }
}

output "archive_url" {
  value = module.stele_archive.archive_url
}

output "collector_role_arn" {
  value = module.stele_archive.collector_role_arn
}

output "stele_config" {
  value = module.stele_archive.stele_config
}
