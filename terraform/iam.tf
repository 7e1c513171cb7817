# Least privilege:
#   - one dynamic group holding exactly the two functions (resource principal), one holding exactly
#     the management instance (instance principal);
#   - the functions may use instances in the target compartment only for INSPECT (list), READ (get)
#     and POWER_ACTIONS (start/stop): no update, no volume attach, no create image;
#     INSTANCE_INSPECT also covers ListShapes (billing-aware stops read isBilledForStoppedInstance);
#     the functions never write tags: scripts/override.sh runs with a person's own credentials;
#   - the management instance may read and invoke those two functions and nothing else;
#   - the Functions service may read the two repositories and use the network it runs in.
# Dynamic groups are tenancy-level objects; every policy is attached to the compartment it governs.

locals {
  function_id_list = [for key in sort(keys(local.function_ids)) : local.function_ids[key]]

  functions_matching_rule  = "ANY {${join(", ", [for id in local.function_id_list : "resource.id = '${id}'"])}}"
  management_matching_rule = "ANY {instance.id = '${oci_core_instance.management.id}'}"

  only_these_functions = "where any {${join(", ", [for id in local.function_id_list : "target.function.id = '${id}'"])}}"
  only_these_repos     = "where any {${join(", ", [for r in oci_artifacts_container_repository.function : "target.repo.name = '${r.display_name}'"])}}"
  instance_permissions = ["INSTANCE_INSPECT", "INSTANCE_READ", "INSTANCE_POWER_ACTIONS"]
}

resource "oci_identity_dynamic_group" "functions" {
  compartment_id = var.tenancy_ocid
  name           = "${var.name_prefix}-functions"
  description    = "start-compute and stop-compute of ${var.name_prefix} (exactly these two functions)"
  matching_rule  = local.functions_matching_rule
  freeform_tags  = local.common_tags
}

resource "oci_identity_dynamic_group" "management" {
  compartment_id = var.tenancy_ocid
  name           = "${var.name_prefix}-management"
  description    = "The ${var.name_prefix} management instance (exactly this instance), which runs the schedules"
  matching_rule  = local.management_matching_rule
  freeform_tags  = local.common_tags
}

resource "oci_identity_policy" "functions_compute" {
  compartment_id = local.target_compartment_id
  name           = "${var.name_prefix}-functions-compute"
  description    = "start-compute and stop-compute may list, read, start and stop instances in the target compartment, nothing else"
  freeform_tags  = local.common_tags

  statements = [
    "Allow dynamic-group ${oci_identity_dynamic_group.functions.name} to use instances in ${local.target_compartment_scope} where any {${join(", ", [for p in local.instance_permissions : "request.permission = '${p}'"])}}",
  ]
}

resource "oci_identity_policy" "management_invoke" {
  compartment_id = var.compartment_ocid
  name           = "${var.name_prefix}-management-invoke"
  description    = "The management instance may read and invoke start-compute and stop-compute only"
  freeform_tags  = local.common_tags

  statements = [
    "Allow dynamic-group ${oci_identity_dynamic_group.management.name} to use fn-invocation in ${local.compartment_scope} ${local.only_these_functions}",
    "Allow dynamic-group ${oci_identity_dynamic_group.management.name} to read fn-function in ${local.compartment_scope} ${local.only_these_functions}",
  ]
}

resource "oci_identity_policy" "functions_service" {
  compartment_id = var.compartment_ocid
  name           = "${var.name_prefix}-functions-service"
  description    = "The OCI Functions service may pull the two function images and attach functions to the application's subnet"
  freeform_tags  = local.common_tags

  statements = [
    "Allow service faas to read repos in ${local.compartment_scope} ${local.only_these_repos}",
    "Allow service faas to use virtual-network-family in ${local.compartment_scope}",
  ]
}
