// (being written)
namespace edgefit {}
