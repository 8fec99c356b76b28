rtl/f8npu_pkg.sv
rtl/f8npu_core.sv
