# Least privilege:
#   - one dynamic group holding exactly the two functions (resource principal), one holding exactly
#     the management instance (instance principal);
#   - the functions may use instances in the target compartment only for INSPECT (list), READ (get)
#     and POWER_ACTIONS (start/stop): no update, no volume attach, no create image; each other kind
#     in var.power_kinds (instance pools, OKE node pools, container instances) adds its own statements;
#     INSTANCE_INSPECT also covers ListShapes (billing-aware stops read isBilledForStoppedInstance);
#     the functions never write tags: scripts/override.sh runs with a person's own credentials;
#   - the management instance may read and invoke those two functions and nothing else;
#   - the Functions service may read the two repositories and use the network it runs in.
# Dynamic groups are tenancy-level objects; every policy is attached to the compartment it governs.
# What names the functions or the management instance exists only once they do (local.management_count:
# the apply after scripts/deploy.sh has pushed the images); a matching rule or a "where any {}" with
# nothing in it would be refused by IAM.

locals {
  function_id_list = [for key in sort(keys(local.function_ids)) : local.function_ids[key]]

  functions_matching_rule  = "ANY {${join(", ", [for id in local.function_id_list : "resource.id = '${id}'"])}}"
  management_matching_rule = "ANY {${join(", ", [for i in oci_core_instance.management : "instance.id = '${i.id}'"])}}"

  only_these_functions = "where any {${join(", ", [for id in local.function_id_list : "target.function.id = '${id}'"])}}"
  only_these_repos     = "where any {${join(", ", [for r in oci_artifacts_container_repository.function : "target.repo.name = '${r.display_name}'"])}}"
  instance_permissions = ["INSTANCE_INSPECT", "INSTANCE_READ", "INSTANCE_POWER_ACTIONS"]

  # One place per kind (var.power_kinds): exactly what the functions call for it, from the OCI IAM
  # policy reference (docs/operations.md lists the operations and explains the wider grants).
  # join: the group's name ("" while it does not exist), and the policies' dependency on it.
  functions_group     = join("", oci_identity_dynamic_group.functions[*].name)
  instance_statement  = "Allow dynamic-group ${local.functions_group} to use instances in ${local.target_compartment_scope} where any {${join(", ", [for p in local.instance_permissions : "request.permission = '${p}'"])}}"
  instance_pool_perms = ["INSTANCE_POOL_INSPECT", "INSTANCE_POOL_READ", "INSTANCE_POOL_POWER_ACTIONS"]
  node_pool_perms     = ["CLUSTER_NODE_POOL_INSPECT", "CLUSTER_NODE_POOL_READ", "CLUSTER_NODE_POOL_UPDATE"]
  work_request_perms  = ["CLUSTER_WORK_REQUEST_INSPECT", "CLUSTER_WORK_REQUEST_READ"]
  kind_statements = {
    instance = [local.instance_statement]
    # Start/Stop/SoftstopInstancePool are INSTANCE_POOL_POWER_ACTIONS and "also need use instances":
    # the members' power actions, the same statement as for single instances.
    instance_pool = [
      "Allow dynamic-group ${local.functions_group} to use instance-pools in ${local.target_compartment_scope} where any {${join(", ", [for p in local.instance_pool_perms : "request.permission = '${p}'"])}}",
      local.instance_statement,
    ]
    # UpdateNodePool is CLUSTER_NODE_POOL_UPDATE (a manage-level permission, narrowed to it) and, per
    # the reference, "also needs manage instance-family, use subnets, use vnics, inspect compartments"
    # because OKE launches and terminates the nodes with the caller's rights.
    node_pool = [
      "Allow dynamic-group ${local.functions_group} to manage cluster-node-pools in ${local.target_compartment_scope} where any {${join(", ", [for p in local.node_pool_perms : "request.permission = '${p}'"])}}",
      "Allow dynamic-group ${local.functions_group} to read cluster-work-requests in ${local.target_compartment_scope} where any {${join(", ", [for p in local.work_request_perms : "request.permission = '${p}'"])}}",
      "Allow dynamic-group ${local.functions_group} to manage instance-family in ${local.target_compartment_scope}",
      "Allow dynamic-group ${local.functions_group} to use subnets in ${local.target_compartment_scope}",
      "Allow dynamic-group ${local.functions_group} to use vnics in ${local.target_compartment_scope}",
      "Allow dynamic-group ${local.functions_group} to inspect compartments in ${local.target_compartment_scope}",
    ]
    # Start/StopContainerInstance are covered by the use verb (which also reads their work requests).
    container_instance = [
      "Allow dynamic-group ${local.functions_group} to use compute-container-instances in ${local.target_compartment_scope}",
    ]
  }
  # Fixed kind order, each statement once, so the default (["instance"]) renders exactly as before.
  functions_compute_statements = distinct(flatten([
    for kind in ["instance", "instance_pool", "node_pool", "container_instance"] : local.kind_statements[kind] if contains(var.power_kinds, kind)
  ]))
}

resource "oci_identity_dynamic_group" "functions" {
  count          = local.management_count
  compartment_id = var.tenancy_ocid
  name           = "${var.name_prefix}-functions"
  description    = "start-compute and stop-compute of ${var.name_prefix} (exactly these two functions)"
  matching_rule  = local.functions_matching_rule
  freeform_tags  = local.common_tags
}

resource "oci_identity_dynamic_group" "management" {
  count          = local.management_count
  compartment_id = var.tenancy_ocid
  name           = "${var.name_prefix}-management"
  description    = "The ${var.name_prefix} management instance (exactly this instance), which runs the schedules"
  matching_rule  = local.management_matching_rule
  freeform_tags  = local.common_tags
}

resource "oci_identity_policy" "functions_compute" {
  count          = local.management_count
  compartment_id = local.target_compartment_id
  name           = "${var.name_prefix}-functions-compute"
  description    = "start-compute and stop-compute may list, read, start and stop the kinds of compute in power_kinds in the target compartment, nothing else"
  freeform_tags  = local.common_tags

  statements = local.functions_compute_statements
}

resource "oci_identity_policy" "management_invoke" {
  count          = local.management_count
  compartment_id = var.compartment_ocid
  name           = "${var.name_prefix}-management-invoke"
  description    = "The management instance may read and invoke start-compute and stop-compute only"
  freeform_tags  = local.common_tags

  statements = [
    "Allow dynamic-group ${oci_identity_dynamic_group.management[0].name} to use fn-invocation in ${local.compartment_scope} ${local.only_these_functions}",
    "Allow dynamic-group ${oci_identity_dynamic_group.management[0].name} to read fn-function in ${local.compartment_scope} ${local.only_these_functions}",
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

# These had no count before the first install became two applies: keep the existing ones.
moved {
  from = oci_identity_dynamic_group.functions
  to   = oci_identity_dynamic_group.functions[0]
}

moved {
  from = oci_identity_dynamic_group.management
  to   = oci_identity_dynamic_group.management[0]
}

moved {
  from = oci_identity_policy.functions_compute
  to   = oci_identity_policy.functions_compute[0]
}

moved {
  from = oci_identity_policy.management_invoke
  to   = oci_identity_policy.management_invoke[0]
}
