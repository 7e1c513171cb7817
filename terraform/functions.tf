# The Functions application (in the private subnet, with the guardrail config and invoke logs) and
# the two functions. The functions exist once both images are known: scripts/deploy.sh pushes them and
# writes images.auto.tfvars.json, and the next apply creates the functions or moves their images
# forward in place (their OCIDs, hence the crontab and the management instance, stay the same).

resource "oci_functions_application" "this" {
  compartment_id = var.compartment_ocid
  display_name   = "${var.name_prefix}-app"
  subnet_ids     = [local.functions_subnet_id]
  freeform_tags  = local.common_tags

  config = {
    # The functions refuse instances outside these compartments, whatever the request says.
    ALLOWED_COMPARTMENT_IDS = local.target_compartment_id
  }

  lifecycle {
    # Half an existing network is refused rather than quietly replaced by a new VCN.
    precondition {
      condition     = (var.existing_functions_subnet_id == null) == (var.existing_management_subnet_id == null)
      error_message = "existing_functions_subnet_id and existing_management_subnet_id go together: give both to use an existing network, or neither to create a VCN."
    }
    # One image alone would create one function, and a crontab naming a function that does not exist.
    precondition {
      condition     = (var.start_function_image == null) == (var.stop_function_image == null)
      error_message = "start_function_image and stop_function_image go together: give both (scripts/deploy.sh writes them to images.auto.tfvars.json), or neither before the first push."
    }
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
  for_each = local.deployed_functions

  application_id     = oci_functions_application.this.id
  display_name       = each.value.name
  image              = each.value.image
  memory_in_mbs      = var.function_memory_in_mbs
  timeout_in_seconds = var.function_timeout_in_seconds
  # Detached invocations (schedule.sh -- --fn-invoke-type detached) may run this long (docs/scale.md).
  detached_mode_timeout_in_seconds = var.function_detached_timeout_in_seconds
  config                           = var.function_config
  freeform_tags                    = local.common_tags

  # No ignore_changes on the image: a release is scripts/deploy.sh (new tag in images.auto.tfvars.json)
  # then terraform apply, which updates the image in place.
  depends_on = [oci_identity_policy.functions_service]
}

locals {
  function_ids = { for k, f in oci_functions_function.this : k => f.id }

  # The schedules' bodies default to the target compartment (see schedules.tf).
  schedule_default_compartment_id = local.target_compartment_id
}
