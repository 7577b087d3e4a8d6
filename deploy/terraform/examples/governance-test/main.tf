# A test account's archive: GOVERNANCE retention of one day, so a principal
# with s3:BypassGovernanceRetention (here only the break-glass role, by the
# bucket policy) can clean up; the collector role from an EKS service account.

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
  region = "us-east-1"
}

variable "break_glass_role_arn" {
  type = string
}

variable "eks_oidc_provider_arn" {
  description = "The cluster's IAM OIDC provider (arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>)."
  type        = string
}

variable "eks_oidc_issuer" {
  description = "The issuer host and path, without https:// (oidc.eks.<region>.amazonaws.com/id/<id>)."
  type        = string
}

data "aws_iam_policy_document" "irsa" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.eks_oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.eks_oidc_issuer}:sub"
      values   = ["system:serviceaccount:stele:stele-collector"]
    }
  }
}

module "stele_archive" {
  source = "../.."

  bucket_name                  = "acme-stele-archive-test"
  object_lock_mode             = "GOVERNANCE"
  retention_days               = 1
  break_glass_role_arn         = var.break_glass_role_arn
  collector_role_name          = "stele-collector-test"
  collector_assume_role_policy = data.aws_iam_policy_document.irsa.json
}

output "archive_url" {
  value = module.stele_archive.archive_url
}
