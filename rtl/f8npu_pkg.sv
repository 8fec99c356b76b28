// SPDX-License-Identifier: MIT
// Hand-written constants shared by the f8npu RTL: opcodes, flags, types and the
// command stream layout (docs/isa.md). The register map is in the generated
// f8npu_regmap_pkg.sv (uapi/f8npu_regs.map).
package f8npu_pkg;

  // Command stream (isa.md §1, §3).
  localparam logic [31:0] CmdMagic     = 32'h5343_3846;
  localparam logic [15:0] CmdVerMajor  = 16'd1;
  localparam logic [15:0] CmdVerMinor  = 16'd0;
  localparam int unsigned HeaderBytes  = 32;
  localparam int unsigned DescBytes    = 256;

  // Opcodes.
  localparam logic [7:0] OpEnd     = 8'd1;
  localparam logic [7:0] OpConv2d  = 8'd2;
  localparam logic [7:0] OpPoolMax = 8'd3;
  localparam logic [7:0] OpPoolSum = 8'd4;
  localparam logic [7:0] OpAdd     = 8'd5;
  localparam logic [31:0] CapOps   = 32'h3e;

  // Descriptor flags (byte 1).
  localparam int unsigned FlagBias      = 0;
  localparam int unsigned FlagAux       = 1;
  localparam int unsigned FlagRelu      = 2;
  localparam int unsigned FlagDst1      = 3;
  localparam int unsigned FlagDepthwise = 4;

  // Element types.
  localparam logic [7:0] TypeU8  = 8'd0;
  localparam logic [7:0] TypeS8  = 8'd1;
  localparam logic [7:0] TypeS32 = 8'd2;

  // Byte offsets of the descriptor fields.
  localparam int unsigned DOpcode   = 0;
  localparam int unsigned DFlags    = 1;
  localparam int unsigned DKernelH  = 4;
  localparam int unsigned DKernelW  = 5;
  localparam int unsigned DStrideH  = 6;
  localparam int unsigned DStrideW  = 7;
  localparam int unsigned DPadTop   = 8;
  localparam int unsigned DPadBot   = 9;
  localparam int unsigned DPadLeft  = 10;
  localparam int unsigned DPadRight = 11;
  localparam int unsigned DAlignSrc = 12;
  localparam int unsigned DAlignAux = 13;
  localparam int unsigned DShift0   = 16;
  localparam int unsigned DShift1   = 17;
  localparam int unsigned DSrc      = 32;
  localparam int unsigned DAux      = 64;
  localparam int unsigned DDst0     = 96;
  localparam int unsigned DDst1     = 128;
  localparam int unsigned DWeights  = 160;
  localparam int unsigned DBias     = 168;

  // Byte offsets inside a 32-byte tensor reference.
  localparam int unsigned TRegion  = 0;
  localparam int unsigned TType    = 1;
  localparam int unsigned TOffset  = 4;
  localparam int unsigned TN       = 8;
  localparam int unsigned TH       = 10;
  localparam int unsigned TW       = 12;
  localparam int unsigned TC       = 14;
  localparam int unsigned TStrideN = 16;
  localparam int unsigned TStrideH = 20;
  localparam int unsigned TStrideW = 24;

  // Error codes (docs/regs.md).
  localparam logic [3:0] ErrNone      = 4'd0;
  localparam logic [3:0] ErrBadMagic  = 4'd1;
  localparam logic [3:0] ErrBadVer    = 4'd2;
  localparam logic [3:0] ErrBadHeader = 4'd3;
  localparam logic [3:0] ErrCmdOob    = 4'd4;
  localparam logic [3:0] ErrBadOpcode = 4'd5;
  localparam logic [3:0] ErrBadField  = 4'd6;
  localparam logic [3:0] ErrBadShape  = 4'd7;
  localparam logic [3:0] ErrLimit     = 4'd8;
  localparam logic [3:0] ErrBadRegion = 4'd9;
  localparam logic [3:0] ErrOobRead   = 4'd10;
  localparam logic [3:0] ErrOobWrite  = 4'd11;
  localparam logic [3:0] ErrAlign     = 4'd12;
  localparam logic [3:0] ErrOverlap   = 4'd13;
  localparam logic [3:0] ErrNoEnd     = 4'd14;
  localparam logic [3:0] ErrBus       = 4'd15;

  // Validation (isa.md §5; used by f8npu_validate).
  localparam logic [7:0]  OpCount       = 8'd6;    // one past the last opcode
  localparam logic [7:0]  TypeCount     = 8'd3;    // one past the last element type
  localparam logic [7:0]  FlagsConv     = 8'h1f;   // flags CONV2D accepts
  localparam logic [7:0]  FlagsElem     = 8'h0e;   // flags POOL_* and ADD accept: AUX RELU DST1
  localparam logic [31:0] MaxK          = 32'd65536;
  localparam logic [7:0]  ShiftMax      = 8'd31;   // out_shift in -ShiftMax .. ShiftMax
  localparam logic [7:0]  AlignMax      = 8'd31;
  localparam int unsigned DReserved0    = 2;       // 2 bytes
  localparam int unsigned DReserved1    = 14;      // 2 bytes
  localparam int unsigned DReserved2    = 18;      // 14 bytes
  localparam int unsigned DReserved3    = 176;     // 80 bytes
  localparam int unsigned TReserved0    = 2;       // 2 bytes of a tensor reference
  localparam int unsigned TReserved1    = 28;      // 4 bytes of a tensor reference
  localparam int unsigned BRegion       = 0;       // buffer reference: region byte
  localparam int unsigned BReserved     = 1;       // 3 bytes
  localparam int unsigned BOffset       = 4;       // u32 offset

  localparam int unsigned Regions   = 16;
  localparam int unsigned MemBytes  = 64;  // width of the internal memory port's data
endpackage
