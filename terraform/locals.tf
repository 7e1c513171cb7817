locals {
  target_compartment_id = coalesce(var.target_compartment_ocid, var.compartment_ocid)

  # A new VCN when no existing subnet is given (half of one is refused: see the Functions application).
  # Written as a conditional so that checkov's evaluator resolves it and scans the network resources.
  create_network = var.existing_functions_subnet_id == null && var.existing_management_subnet_id == null ? true : false

  common_tags = merge({ "project" = "oci-compute-power" }, var.freeform_tags)

  # The two functions, keyed the way schedules name them ("start" | "stop").
  functions = {
    start = { name = "start-compute", image = var.start_function_image }
    stop  = { name = "stop-compute", image = var.stop_function_image }
  }

  # The first apply of a fresh install runs before scripts/deploy.sh has pushed any image: the
  # functions, and everything that names them (the management instance whose crontab holds their
  # OCIDs, the dynamic groups and the policies), are created by the apply that knows both images
  # (scripts/deploy.sh writes them to images.auto.tfvars.json). Half of them is refused (functions.tf).
  images_known       = var.start_function_image != null && var.stop_function_image != null
  deployed_functions = local.images_known ? local.functions : {}
  management_count   = local.images_known ? 1 : 0

  # Policy scope: "compartment id <ocid>", or "tenancy" when the root compartment is used.
  compartment_scope        = var.compartment_ocid == var.tenancy_ocid ? "tenancy" : "compartment id ${var.compartment_ocid}"
  target_compartment_scope = local.target_compartment_id == var.tenancy_ocid ? "tenancy" : "compartment id ${local.target_compartment_id}"
}
