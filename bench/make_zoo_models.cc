// Writes the benchmark's reference models into a folder:
//   make_zoo_models DIR   -> DIR/resnet18.onnx, DIR/mobilenet_v2.onnx, DIR/largest_conv.onnx
#include <iostream>

#include "model_zoo.h"
#include "onnx/model_io.h"

using namespace edgefit;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_zoo_models DIR\n";
    return 2;
  }
  std::string dir = argv[1];
  struct Item {
    const char* file;
    Model model;
  };
  Item items[] = {{"resnet18.onnx", zoo::ResNet18()},
                  {"mobilenet_v2.onnx", zoo::MobileNetV2()},
                  // ResNet18's most expensive conv shape class: 3x3, 64->64 at 56x56.
                  {"largest_conv.onnx", zoo::SingleConv(64, 64, 56, 56, 3)}};
  for (auto& item : items) {
    Status st = SaveModel(item.model, dir + "/" + item.file);
    if (!st.ok()) {
      std::cerr << st.ToString() << "\n";
      return 1;
    }
    std::cout << dir << "/" << item.file << "\n";
  }
  return 0;
}
