terraform {
  required_version = ">= 1.5.0"

  required_providers {
    oci = {
      source = "oracle/oci"
      # Checked against the provider schemas of 7.32.0 and 8.28.0 (test/terraform/schema.test.ts).
      version = ">= 7.32.0, < 9.0.0"
    }
  }
}

# Authentication is the user's choice (var.oci_auth): an API key from ~/.oci/config (profile
# var.oci_config_file_profile), a security token (oci session authenticate), or the instance
# principal of the machine running Terraform. Nothing is hardcoded here; the provider also reads
# the usual TF_VAR_* and OCI config-file settings.
provider "oci" {
  region              = var.region
  auth                = var.oci_auth
  config_file_profile = var.oci_config_file_profile
}
