// A hand-built ONNX model for the ONNX Runtime tests: y = x * [1, 2, 3] + 0.5
// over x [2, 3], written with libonnx here, not with mnas's emitter, so the
// expected outputs are known by hand without mnas.
#pragma once

#include <onnx/onnx_pb.h>

#include <fstream>
#include <string>

namespace mnas::testing {

// Writes the model to `path` and returns `path`.
inline std::string write_affine_model(const std::string& path) {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("affine");
  const auto value = [](onnx::ValueInfoProto* v, const std::string& name) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    t->mutable_shape()->add_dim()->set_dim_value(2);
    t->mutable_shape()->add_dim()->set_dim_value(3);
  };
  value(g->add_input(), "x");
  value(g->add_output(), "y");
  auto* w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(3);
  for (float f : {1.f, 2.f, 3.f}) w->add_float_data(f);
  auto* b = g->add_initializer();
  b->set_name("b");
  b->set_data_type(onnx::TensorProto::FLOAT);
  b->add_float_data(0.5f);
  auto* mul = g->add_node();
  mul->set_op_type("Mul");
  mul->add_input("x");
  mul->add_input("w");
  mul->add_output("xw");
  auto* add = g->add_node();
  add->set_op_type("Add");
  add->add_input("xw");
  add->add_input("b");
  add->add_output("y");
  std::ofstream out(path, std::ios::binary);
  m.SerializeToOstream(&out);
  return path;
}

}  // namespace mnas::testing
