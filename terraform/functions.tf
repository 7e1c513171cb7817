# The Functions application (in the private subnet, with the guardrail config and invoke logs) and
# the two functions. scripts/deploy.sh updates the images later (fn deploy), so Terraform only sets
# the image when it creates a function.

resource "oci_functions_application" "this" {
  compartment_id = var.compartment_ocid
  display_name   = "${var.name_prefix}-app"
  subnet_ids     = [local.functions_subnet_id]
  freeform_tags  = local.common_tags

  config = {
    # The functions refuse instances outside these compartments, whatever the request says.
    ALLOWED_COMPARTMENT_IDS = local.target_compartment_id
  }
}

resource "oci_logging_log_group" "functions" {
  compartment_id = var.compartment_ocid
  display_name   = "${var.name_prefix}-functions"
  description    = "Invoke logs of start-compute and stop-compute"
  freeform_tags  = local.common_tags
}

resource "oci_logging_log" "functions_invoke" {
  display_name       = "${var.name_prefix}-app-invoke"
  log_group_id       = oci_logging_log_group.functions.id
  log_type           = "SERVICE"
  is_enabled         = true
  retention_duration = var.log_retention_duration
  freeform_tags      = local.common_tags

  configuration {
    compartment_id = var.compartment_ocid

    source {
      category    = "invoke"
      resource    = oci_functions_application.this.id
      service     = "functions"
      source_type = "OCISERVICE"
    }
  }
}

resource "oci_functions_function" "this" {
  for_each = local.functions

  application_id     = oci_functions_application.this.id
  display_name       = each.value.name
  image              = each.value.image
  memory_in_mbs      = var.function_memory_in_mbs
  timeout_in_seconds = var.function_timeout_in_seconds
  config             = var.function_config
  freeform_tags      = local.common_tags

  lifecycle {
    # scripts/deploy.sh (fn deploy) moves the image forward after the first apply.
    ignore_changes = [image, image_digest]
  }

  depends_on = [oci_identity_policy.functions_service]
}

locals {
  function_ids = { for k, f in oci_functions_function.this : k => f.id }

  # The schedules' bodies default to the target compartment (see schedules.tf).
  schedule_default_compartment_id = local.target_compartment_id
}
